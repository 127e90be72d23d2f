import { streamKey } from "../hub/stream-record.js";

/** The stream of a chat's latest turn. */
export interface ChatTurn {
  /** The hub's stream of the turn. */
  readonly streamId: string;
  /** The `messageId` of the turn's `start` chunk, the same on every replay. */
  readonly messageId: string;
}

/**
 * Where the AI SDK routes remember each chat's latest turn: this process
 * ({@link ChatStreams}) or, with several replicas, Redis (`RedisCluster.chats`).
 */
export interface ChatTurnStore {
  /** Records `turn` as the chat's latest. */
  set(owner: string, chatId: string, turn: ChatTurn): void | Promise<void>;
  /** The chat's latest turn, if remembered. */
  get(owner: string, chatId: string): ChatTurn | undefined | Promise<ChatTurn | undefined>;
  /** Forgets the chat, unless a newer turn than `streamId` was recorded meanwhile. */
  forget(owner: string, chatId: string, streamId: string): void | Promise<void>;
}

/**
 * Which stream is each chat's latest turn: the AI SDK reconnects by chat id
 * alone (`GET …/{chatId}/stream`, ai-sdk.dev "Chatbot Resume Streams": "a
 * persistence layer tracks which stream ID is active for each chat"), and
 * stream ids are the hub's.
 *
 * Keyed by (owner, chat id) like the hub's streams (`streamKey`): the same
 * chat id from two owners names two chats, and another owner's chat id is
 * unknown here, exactly like a chat id never used. An entry holds only two
 * ids; it never keeps a stream alive: the hub's lifetimes decide (detach
 * policy, `AIRWAVE_STREAM_TTL_MS`), and an entry whose stream the hub no
 * longer holds is dropped when it is next looked up ({@link forget}). At most
 * `maxChats` entries are kept; past that the chat updated longest ago is
 * forgotten first (its reconnect then answers 204, as after the stream's
 * expiry). In memory, per gateway process; with several replicas the
 * cluster keeps the map in Redis instead (`RedisCluster.chats`).
 */
export class ChatStreams implements ChatTurnStore {
  /** By `streamKey(owner, chatId)`, in the order of their last update (oldest first). */
  readonly #turns = new Map<string, ChatTurn>();

  /** @param maxChats how many chats are remembered at most (the gateway passes AIRWAVE_MAX_STREAMS). */
  constructor(private readonly maxChats: number) {}

  /** Chats remembered. */
  get size(): number {
    return this.#turns.size;
  }

  /** Records `turn` as the chat's latest; forgets the oldest chat when over `maxChats`. */
  set(owner: string, chatId: string, turn: ChatTurn): void {
    const key = streamKey(owner, chatId);
    this.#turns.delete(key);
    this.#turns.set(key, turn);
    for (const oldest of this.#turns.keys()) {
      if (this.#turns.size <= this.maxChats) break;
      this.#turns.delete(oldest);
    }
  }

  /** The chat's latest turn, if remembered. */
  get(owner: string, chatId: string): ChatTurn | undefined {
    return this.#turns.get(streamKey(owner, chatId));
  }

  /** Forgets the chat, unless a newer turn than `streamId` was recorded meanwhile. */
  forget(owner: string, chatId: string, streamId: string): void {
    const key = streamKey(owner, chatId);
    if (this.#turns.get(key)?.streamId === streamId) this.#turns.delete(key);
  }
}
