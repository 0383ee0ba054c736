/** Graph's `microsoft.graph.profilePhoto`, as far as the gateway uses it. */
export interface GraphProfilePhoto {
  id: string;
  height: number | null;
  width: number | null;
  /**
   * Graph's `@odata.mediaEtag`, when it gave one: the picture's version, the same value as the
   * `ETag` of `photo/$value` (the photo cache revalidates a picture by it).
   */
  mediaEtag?: string;
}

/** The properties a PATCH changes: an absent key is not sent, `null` is sent as `null`. */
export interface ProfilePhotoPatch {
  height?: number | null;
  width?: number | null;
}

/** An answer from Graph, whatever its status. */
export interface GraphResponse {
  status: number;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body as text (empty for a binary call's success, whose body is in `bytes`). */
  body: string;
  /** A binary call's 2xx body (`photo/$value`), as Graph sent it. */
  bytes?: Buffer;
}
