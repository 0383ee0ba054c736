/**
 * Told of each image the gateway processed; a no-op unless metrics are collected. photos/ owns it
 * and the gateway's metrics implement it, so that nothing that emits it imports metrics/ (the
 * resolvers report it, as they know whether the image was an upload or a thumbnail).
 */
export interface PhotoObserver {
  /**
   * An upload made into Outlook's JPEG, or a thumbnail made of Graph's picture: the input's
   * format, the time spent on it, and its size in and out, in bytes.
   */
  photoProcessed(operation: 'upload' | 'thumbnail', format: string, seconds: number, bytesIn: number, bytesOut: number): void;
}
