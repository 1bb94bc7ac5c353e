// Types of emulator/push.js: the WeChat side of the message push, for tests and demos.

export interface PusherOptions {
  /** The push URL configured on the message-push page. */
  url: string
  token: string
  /** Needed for compatible and safe mode. */
  encodingAESKey?: string
  /** The AppID messages are sealed for (compatible and safe mode). */
  appid?: string
  /** Default: `'safe'` with encodingAESKey, else `'plain'`. */
  mode?: 'plain' | 'compatible' | 'safe'
  /** Default `'xml'`. */
  format?: 'xml' | 'json'
  /** The mini-program's original id (`ToUserName`). Default: `'gh_'` + 12 hex digits. */
  toUserName?: string
  /** How long an answer is waited for before the request is sent again. Default `5000` (WeChat's). */
  retryWaitMs?: number
  /** Further tries after one that got no answer. Default `3` (WeChat's). */
  retries?: number
  /** The clock for `timestamp` and `CreateTime`, in milliseconds. Default `Date.now`. */
  now?: () => number
  /** Called after each attempt. */
  onAttempt?: (attempt: PushAttempt, record: PushRecord) => void
}

export interface PushMessage {
  /** The user's openid (`FromUserName`). */
  from: string
  /** The text of a `text` message. */
  content?: string
  /** `MsgType`. Default `'text'`. */
  type?: 'text' | 'image' | 'miniprogrampage' | 'event' | string
  /** More of WeChat's fields, e.g. `{ PicUrl, MediaId }` or `{ Event: 'user_enter_tempsession', SessionFrom }`. */
  fields?: Record<string, string | number>
  /** Default: a random 64-bit id (events have none). */
  msgId?: string | bigint
  /** Seconds. Default: now. */
  createTime?: number
}

export interface PushAttempt {
  attempt: number
  outcome: 'answered' | 'timeout' | 'error'
  status?: number
  body?: string
  error?: string
}

export interface PushRecord {
  /** The message as the cloud function should see it (`CreateTime` a number, `MsgId` a string). */
  message: Record<string, string | number>
  attempts: PushAttempt[]
  /** The HTTP status of the answered attempt. */
  status: number | undefined
  /** `'success'` or the passive reply's fields (decrypted in safe mode). */
  reply: 'success' | Record<string, unknown> | undefined
  /** Why WeChat would reject the answer, if it would. */
  replyError: string | undefined
  /** Whether the reply came with a valid signature, sealed for the appid. */
  sealed?: boolean
  /** Answered with 200 and a reply WeChat accepts. */
  ok: boolean
}

export interface Pusher {
  push(message: PushMessage): Promise<PushRecord>
  /** The GET URL check; `ok` when echostr came back. */
  verify(options?: { echostr?: string }): Promise<PushAttempt & { ok: boolean }>
  readonly pushes: PushRecord[]
  close(): void
}

export function createPusher(options: PusherOptions): Pusher
export declare const DEFAULT_RETRY_WAIT_MS: 5000
export declare const DEFAULT_RETRIES: 3

/** What `startEmulator({ push })` adds to the emulator. */
export interface EmulatorPush {
  /** Pushes a user's message to `push.url` as WeChat does (and opens the user's 48-hour window). */
  push(message: PushMessage): Promise<PushRecord>
  /** The GET URL check of the push settings page. */
  verifyPush(options?: { echostr?: string }): Promise<PushAttempt & { ok: boolean }>
  /** Every push, in order. */
  readonly pushes: PushRecord[]
}

/** `startEmulator`'s `push` option: PusherOptions whose `appid` defaults to the emulator's. */
export type EmulatorPushOptions = Omit<PusherOptions, 'appid'> & { appid?: string }
