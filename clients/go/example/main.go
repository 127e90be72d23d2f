// Command example streams an answer from Airwave over gRPC and resumes it
// after a disconnect, from the last cursor it printed.
//
//	go run ./example -addr 127.0.0.1:8080 How do tides work?
//
// Ctrl-C stops the generation (CancelStream).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"time"

	airwavev1 "github.com/airwave/airwave/clients/go/airwave/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "the gateway's host:port (gRPC over HTTP/2 cleartext)")
	flag.Parse()
	prompt := "How do tides work?"
	if flag.NArg() > 0 {
		prompt = strings.Join(flag.Args(), " ")
	}

	// Plaintext HTTP/2 to the gateway's port. (grpc-go 1.34 and later also
	// spell it grpc.WithTransportCredentials(insecure.NewCredentials()).)
	conn, err := grpc.Dial(*addr, grpc.WithInsecure())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	client := airwavev1.NewStreamServiceClient(conn)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	created, err := client.CreateStream(ctx, &airwavev1.CreateStreamRequest{
		Request: &airwavev1.GenerateRequest{
			Model: "simulator",
			Messages: []*airwavev1.Message{{
				Role:  airwavev1.Role_ROLE_USER,
				Parts: []*airwavev1.Part{{Part: &airwavev1.Part_Text{Text: prompt}}},
			}},
		},
		// Keep generating while we are away, so a resume finds the answer.
		OnDetach: airwavev1.OnDetach_ON_DETACH_CONTINUE,
	})
	if err != nil {
		log.Fatal(err)
	}
	// The next event of the call being read: CreateStream's, then WatchStream's after a resume.
	next := func() (*airwavev1.StreamEvent, error) {
		r, err := created.Recv()
		return r.GetEvent(), err
	}

	var streamID, cursor string
	for {
		ev, err := next()
		if err == nil {
			if ev.GetStreamId() != "" {
				streamID = ev.GetStreamId()
			}
			if ev.GetSeq() > 0 { // logged events carry a cursor; heartbeat and resumed do not
				cursor = fmt.Sprintf("%s:%d", ev.GetEpoch(), ev.GetSeq())
			}
			switch e := ev.GetEvent().(type) {
			case *airwavev1.StreamEvent_TextDelta:
				fmt.Print(e.TextDelta.GetText())
			case *airwavev1.StreamEvent_Completed:
				fmt.Println()
				return
			case *airwavev1.StreamEvent_Failed:
				fmt.Println()
				log.Fatalf("failed: %s (%s)", e.Failed.GetMessage(), e.Failed.GetReason())
			}
			continue
		}
		if errors.Is(err, io.EOF) {
			return
		}
		if ctx.Err() != nil && streamID != "" { // Ctrl-C: stop the generation, not only our watch
			cancelCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, _ = client.CancelStream(cancelCtx, &airwavev1.CancelStreamRequest{StreamId: streamID, Reason: "interrupted"})
			cancel()
			os.Exit(130)
		}
		switch status.Code(err) {
		case codes.Unavailable, codes.Aborted, codes.DeadlineExceeded:
			if streamID == "" {
				break
			}
			// Resume strictly after the last event we printed: no gap, no duplicate.
			// WaitForReady: the call waits while the connection is re-established.
			log.Printf("%v: resuming stream %s after %s", status.Code(err), streamID, cursor)
			watch, werr := client.WatchStream(ctx, &airwavev1.WatchStreamRequest{StreamId: streamID, Cursor: cursor}, grpc.WaitForReady(true))
			if werr == nil {
				next = func() (*airwavev1.StreamEvent, error) {
					r, err := watch.Recv()
					return r.GetEvent(), err
				}
				continue
			}
			err = werr
		}
		log.Fatalf("airwave: %v", err)
	}
}
