/// <reference types="node" />
// Types of wx-openapi-native/push: WeChat's mini-program message push, served by an unchanged
// cloud function.

import type { IncomingMessage, ServerResponse, Server } from 'node:http'

/**
 * A message as WeChat's cloud passes it to a cloud function: the pushed fields, `CreateTime` a
 * number, `MsgId` a string (WeChat's 64-bit id, every digit kept).
 */
export interface PushEvent {
  ToUserName: string
  /** The sender's openid. */
  FromUserName: string
  CreateTime: number
  /** `'text'`, `'image'`, `'miniprogrampage'`, `'event'`, … */
  MsgType: string
  MsgId?: string
  Content?: string
  PicUrl?: string
  MediaId?: string
  Title?: string
  AppId?: string
  PagePath?: string
  ThumbUrl?: string
  ThumbMediaId?: string
  /** For `MsgType: 'event'`, e.g. `'user_enter_tempsession'`. */
  Event?: string
  SessionFrom?: string
  [field: string]: unknown
}

/** What getWXContext() returns inside the function while it handles a message. */
export interface PushContext {
  /** The sender (FromUserName). */
  OPENID: string
  APPID: string | undefined
  UNIONID?: string
  ENV?: string
  SOURCE: string
}

/**
 * A passive reply: written in the request's format (XML or JSON), encrypted in safe mode.
 * `ToUserName`, `FromUserName` and `CreateTime` are filled from the message when left out.
 */
export interface PassiveReply {
  MsgType: string
  ToUserName?: string
  FromUserName?: string
  CreateTime?: number
  [field: string]: unknown
}

/** main's return value: `'success'`, nothing, or a passive reply. */
export type PushResult = 'success' | undefined | void | null | PassiveReply

export type CloudFunction = (event: PushEvent, context: { request_id: string; function_name: string }) => PushResult | Promise<PushResult> | unknown

/**
 * Where nonces and MsgIds are remembered. One atomic operation: store `value` under `key` for
 * `ttlMs` unless the key exists; return `undefined` (or `null`) if stored, else the value stored earlier.
 * Shared by every process behind one URL (Redis: `SET key value NX PX ttl GET`).
 */
export interface PushStore {
  putIfAbsent(key: string, value: string, ttlMs: number): string | undefined | null | Promise<string | undefined | null>
}

export interface PushHandlerOptions {
  /** The Token set on the message-push page. */
  token: string
  /** The 43-character EncodingAESKey; needed for compatible and safe mode. */
  encodingAESKey?: string
  /** The mini-program's AppID: decrypted messages must carry it; also `APPID` in getWXContext(). Required with encodingAESKey. */
  appid?: string
  /** Default: `'safe'` with encodingAESKey, else `'plain'`. Safe mode refuses unencrypted messages. */
  mode?: 'plain' | 'compatible' | 'safe'
  /** How far `timestamp` may be from this machine's clock, either way, in seconds. Default `300`. */
  timestampToleranceSec?: number
  /** How long a MsgId (or an event's FromUserName + CreateTime) is remembered. Default 15 minutes. */
  dedupTtlMs?: number
  /** Larger bodies are refused with 413. Default 256 KiB. */
  maxBodyBytes?: number
  /** Default: an in-memory store (one process). */
  store?: PushStore
  /** Where a failing function is reported (one line, no secrets). Default `console`. */
  logger?: { error(message: string): void }
  /** `ENV` in getWXContext(). Default `TCB_ENV` or `SCF_NAMESPACE` when set. */
  env?: string
  /** `SOURCE` in getWXContext(). Default `'wx_unknown'`. */
  source?: string
  /** `context.function_name`. Default `'main'`. */
  functionName?: string
  /** The clock, in milliseconds since the epoch. Default `Date.now`. */
  now?: () => number
}

/** Usable with node:http, as Express middleware, and in Koa with `ctx.respond = false`. Never rejects. */
export type PushHandler = (req: IncomingMessage, res: ServerResponse, next?: unknown) => Promise<void>

export function createPushHandler(options: PushHandlerOptions, main: CloudFunction): PushHandler

export interface ServeOptions extends PushHandlerOptions {
  /** Default `0`: any free port. */
  port?: number
  /** Default `'127.0.0.1'`. */
  host?: string
  /** Only this pathname is served (others: 404). Default: every path. */
  path?: string
}

export interface PushServer {
  /** `http://host:port/path`: the URL to set on the message-push page (behind HTTPS). */
  readonly url: string
  readonly port: number
  readonly server: Server
  close(): Promise<void>
}

export function serve(options: ServeOptions, main: CloudFunction): Promise<PushServer>

/** The default store: in memory, entries expire, at most `maxEntries` (oldest dropped first). */
export function createMemoryStore(options?: { maxEntries?: number; now?: () => number }): PushStore & { size(): number }

/** As `cloud.getWXContext()` of the main package. */
export function getWXContext(): Record<string, unknown>

/** sha1 of the parts sorted and joined: WeChat's `signature` and `msg_signature`. */
export function signature(...parts: string[]): string
/** The 32-byte AES key of an EncodingAESKey. */
export function aesKey(encodingAESKey: string): Buffer
/** WeChat's safe-mode envelope: base64 of AES-256-CBC(16 random bytes + length + message + appid). */
export function encrypt(key: Buffer, message: string, appid: string, random?: Buffer): string
export function decrypt(key: Buffer, encrypted: string): { message: string; appid: string }
/** Reads WeChat's `<xml>…</xml>` into an object of its fields (strings, nested objects, arrays). */
export function parseXml(text: string, options?: { maxDepth?: number }): Record<string, unknown>
/** Writes an object as WeChat's `<xml>…</xml>` (strings in CDATA). */
export function toXml(fields: Record<string, unknown>): string
