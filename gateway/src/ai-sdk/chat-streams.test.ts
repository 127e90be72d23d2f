import { describe, expect, it } from "vitest";
import { ChatStreams } from "./chat-streams.js";

describe("ChatStreams: each chat's latest stream, owner-scoped and bounded", () => {
  it("keeps the latest turn per (owner, chat); another owner's chat id is another chat", () => {
    const chats = new ChatStreams(10);
    chats.set("alice", "c", { streamId: "s1", messageId: "m1" });
    chats.set("alice", "c", { streamId: "s2", messageId: "m2" });
    chats.set("bob", "other", { streamId: "s3", messageId: "m3" });
    expect(chats.get("alice", "c")).toEqual({ streamId: "s2", messageId: "m2" });
    expect(chats.get("bob", "c")).toBeUndefined();
    expect(chats.get("alice", "other")).toBeUndefined();
    expect(chats.size).toBe(2);
  });

  it("forgets the chat updated longest ago past its bound", () => {
    const chats = new ChatStreams(2);
    chats.set("o", "a", { streamId: "1", messageId: "m" });
    chats.set("o", "b", { streamId: "2", messageId: "m" });
    chats.set("o", "a", { streamId: "3", messageId: "m" }); // a is now the newest
    chats.set("o", "c", { streamId: "4", messageId: "m" });
    expect(chats.size).toBe(2);
    expect(chats.get("o", "b")).toBeUndefined();
    expect(chats.get("o", "a")?.streamId).toBe("3");
    expect(chats.get("o", "c")?.streamId).toBe("4");
  });

  it("forgets a chat only while it still points at the stream named", () => {
    const chats = new ChatStreams(10);
    chats.set("o", "a", { streamId: "new", messageId: "m" });
    chats.forget("o", "a", "old");
    expect(chats.get("o", "a")?.streamId).toBe("new");
    chats.forget("o", "a", "new");
    expect(chats.get("o", "a")).toBeUndefined();
  });
});
