// Command scenarios runs the Go client scenarios of
// tests/clients/go-client.test.ts: one scenario against a gateway's gRPC port
// with the generated stubs in clients/go, printing what it saw as JSON lines
// for the test to assert: {"phase", "event": <StreamEvent, canonical JSON>},
// {"phase", "info": <StreamInfo>}, {"phase", "error": {"code", "name",
// "message", "trailers"}}.
//
//	scenarios <host:port> create|resume|cancel|not_found|deadline|reason
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strconv"
	"strings"
	"time"

	airwavev1 "github.com/airwave/airwave/clients/go/airwave/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

type line struct {
	Phase string          `json:"phase"`
	Event json.RawMessage `json:"event,omitempty"`
	Info  json.RawMessage `json:"info,omitempty"`
	Error *printedError   `json:"error,omitempty"`
	OK    bool            `json:"ok,omitempty"`
}

type printedError struct {
	Code     int               `json:"code"`
	Name     string            `json:"name"`
	Message  string            `json:"message"`
	Trailers map[string]string `json:"trailers"`
}

var out = json.NewEncoder(os.Stdout)

func emit(l line) {
	if err := out.Encode(l); err != nil {
		log.Fatal(err)
	}
}

func asJSON(m proto.Message) json.RawMessage {
	b, err := protojson.Marshal(m)
	if err != nil {
		log.Fatal(err)
	}
	return b
}

func emitEvent(phase string, e *airwavev1.StreamEvent) { emit(line{Phase: phase, Event: asJSON(e)}) }
func emitInfo(phase string, i *airwavev1.StreamInfo)   { emit(line{Phase: phase, Info: asJSON(i)}) }

func emitError(phase string, err error, trailer metadata.MD) {
	st, _ := status.FromError(err)
	trailers := map[string]string{}
	for k, v := range trailer {
		if !strings.HasSuffix(k, "-bin") && len(v) > 0 {
			trailers[k] = v[0]
		}
	}
	emit(line{Phase: phase, Error: &printedError{Code: int(st.Code()), Name: st.Code().String(), Message: st.Message(), Trailers: trailers}})
}

func cursor(e *airwavev1.StreamEvent) string { return fmt.Sprintf("%s:%d", e.GetEpoch(), e.GetSeq()) }

func request(outputTokens int, tokensPerS int) *airwavev1.CreateStreamRequest {
	md := map[string]string{"simulator.output_tokens": strconv.Itoa(outputTokens)}
	if tokensPerS > 0 {
		md["simulator.tokens_per_s"] = strconv.Itoa(tokensPerS)
	}
	return &airwavev1.CreateStreamRequest{
		Request: &airwavev1.GenerateRequest{
			Model: "simulator",
			Messages: []*airwavev1.Message{{
				Role:  airwavev1.Role_ROLE_USER,
				Parts: []*airwavev1.Part{{Part: &airwavev1.Part_Text{Text: "How do tides work?"}}},
			}},
			Metadata: md,
		},
		OnDetach: airwavev1.OnDetach_ON_DETACH_CONTINUE,
	}
}

// eventStream is what CreateStream and WatchStream return.
type eventStream interface {
	Recv() (*airwavev1.StreamEvent, error)
	Trailer() metadata.MD
}

type createStream struct {
	airwavev1.StreamService_CreateStreamClient
}

func (s createStream) Recv() (*airwavev1.StreamEvent, error) {
	r, err := s.StreamService_CreateStreamClient.Recv()
	return r.GetEvent(), err
}

type watchStream struct {
	airwavev1.StreamService_WatchStreamClient
}

func (s watchStream) Recv() (*airwavev1.StreamEvent, error) {
	r, err := s.StreamService_WatchStreamClient.Recv()
	return r.GetEvent(), err
}

// readAll prints every event of s in phase until the call ends; stop, when
// set, ends the reading early at the first event it returns true for.
// Returns the last event read, and the call's error (nil at its normal end).
func readAll(phase string, s eventStream, stop func(*airwavev1.StreamEvent) bool) (*airwavev1.StreamEvent, error) {
	var last *airwavev1.StreamEvent
	for {
		e, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return last, nil
		}
		if err != nil {
			emitError(phase, err, s.Trailer())
			return last, err
		}
		emitEvent(phase, e)
		last = e
		if stop != nil && stop(e) {
			return last, nil
		}
	}
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func timeout(d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	_ = cancel // released when the deadline passes; the program is short-lived
	return ctx
}

func create(c airwavev1.StreamServiceClient) (*airwavev1.StreamEvent, error) {
	s, err := c.CreateStream(timeout(15*time.Second), request(12, 0))
	must(err)
	return readAll("create", createStream{s}, nil)
}

func watchAll(c airwavev1.StreamServiceClient, phase, streamID, after string) {
	s, err := c.WatchStream(timeout(15*time.Second), &airwavev1.WatchStreamRequest{StreamId: streamID, Cursor: after})
	must(err)
	_, err = readAll(phase, watchStream{s}, nil)
	must(err)
}

// resume reads five text deltas, drops the call (a detach: the generation
// goes on), then resumes strictly after the last cursor received.
func resume(c airwavev1.StreamServiceClient) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	s, err := c.CreateStream(ctx, request(40, 200))
	must(err)
	deltas := 0
	last, err := readAll("before", createStream{s}, func(e *airwavev1.StreamEvent) bool {
		if e.GetTextDelta() != nil {
			deltas++
		}
		return deltas == 5
	})
	must(err)
	cancel()
	watchAll(c, "after", last.GetStreamId(), cursor(last))
	watchAll(c, "full", last.GetStreamId(), "")
}

func cancelScenario(c airwavev1.StreamServiceClient) {
	s, err := c.CreateStream(timeout(15*time.Second), request(100000, 50))
	must(err)
	first, err := readAll("create", createStream{s}, func(e *airwavev1.StreamEvent) bool { return e.GetTextDelta() != nil })
	must(err)
	id := first.GetStreamId()
	r, err := c.CancelStream(timeout(5*time.Second), &airwavev1.CancelStreamRequest{StreamId: id, Reason: "user pressed stop"})
	must(err)
	emitInfo("cancel", r.GetStream())
	_, err = readAll("create", createStream{s}, nil) // the same call goes on to its terminal event
	must(err)
	g, err := c.GetStream(timeout(5*time.Second), &airwavev1.GetStreamRequest{StreamId: id})
	must(err)
	emitInfo("get", g.GetStream())
}

func notFound(c airwavev1.StreamServiceClient) {
	b := make([]byte, 16)
	_, err := rand.Read(b)
	must(err)
	unknown := "unknown" + base64.RawURLEncoding.EncodeToString(b)
	var trailer metadata.MD
	s, err := c.WatchStream(timeout(5*time.Second), &airwavev1.WatchStreamRequest{StreamId: unknown})
	must(err)
	if _, err := readAll("watch", watchStream{s}, nil); err == nil {
		emit(line{Phase: "watch", OK: true})
	}
	if _, err := c.GetStream(timeout(5*time.Second), &airwavev1.GetStreamRequest{StreamId: unknown}, grpc.Trailer(&trailer)); err != nil {
		emitError("get", err, trailer)
	} else {
		emit(line{Phase: "get", OK: true})
	}
	if _, err := c.CancelStream(timeout(5*time.Second), &airwavev1.CancelStreamRequest{StreamId: unknown}, grpc.Trailer(&trailer)); err != nil {
		emitError("cancel", err, trailer)
	} else {
		emit(line{Phase: "cancel", OK: true})
	}
}

// deadline puts a 300 ms deadline on a 1 s generation: the watch ends, the
// generation does not.
func deadline(c airwavev1.StreamServiceClient) {
	s, err := c.CreateStream(timeout(300*time.Millisecond), request(30, 30))
	must(err)
	last, _ := readAll("create", createStream{s}, nil)
	g, err := c.GetStream(timeout(5*time.Second), &airwavev1.GetStreamRequest{StreamId: last.GetStreamId()})
	must(err)
	emitInfo("get", g.GetStream())
	watchAll(c, "after", last.GetStreamId(), cursor(last))
}

// reason sends input to an ended stream: FAILED_PRECONDITION, with
// `airwave-reason: STREAM_ENDED` in the trailers.
func reason(c airwavev1.StreamServiceClient) {
	s, err := c.CreateStream(timeout(15*time.Second), request(3, 0))
	must(err)
	last, err := readAll("create", createStream{s}, nil)
	must(err)
	var trailer metadata.MD
	if _, err := c.SendInput(timeout(5*time.Second), &airwavev1.SendInputRequest{StreamId: last.GetStreamId(), Text: "yes"}, grpc.Trailer(&trailer)); err != nil {
		emitError("input", err, trailer)
	} else {
		emit(line{Phase: "input", OK: true})
	}
}

func main() {
	if len(os.Args) != 3 {
		log.Fatal("usage: scenarios <host:port> <scenario>")
	}
	conn, err := grpc.Dial(os.Args[1], grpc.WithInsecure())
	must(err)
	defer conn.Close()
	c := airwavev1.NewStreamServiceClient(conn)
	switch os.Args[2] {
	case "create":
		_, err := create(c)
		must(err)
	case "resume":
		resume(c)
	case "cancel":
		cancelScenario(c)
	case "not_found":
		notFound(c)
	case "deadline":
		deadline(c)
	case "reason":
		reason(c)
	default:
		log.Fatalf("unknown scenario %q", os.Args[2])
	}
}
