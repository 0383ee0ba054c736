/**
 * What Microsoft Graph allows of a contact's photo (docs/graph-behaviour.md): known to graph/,
 * which reads and sends photos, to photos/, which makes uploads fit, and to schema/, which checks
 * the sizes asked for. It lives in none of them, so that photos/ never imports graph/ and
 * schema/'s files need not import each other for it; like errors/, this folder imports nothing
 * of the project.
 */

/** Graph stores at most 4 MB per photo. */
export const GRAPH_MAX_PHOTO_BYTES = 4 * 1024 * 1024;

/** The sizes Exchange keeps of a photo, in pixels; `dataUrl(size)` takes one of them. */
export const OUTLOOK_PHOTO_SIZES: readonly number[] = [48, 64, 96, 120, 240, 360, 432, 504, 648];
