/**
 * What Microsoft Graph allows of a contact's photo (docs/graph-behaviour.md): known to graph/,
 * which reads and sends photos, and to photos/, which makes uploads fit. It lives in neither, so
 * that photos/ never imports graph/; like errors/, this folder imports nothing of the project.
 */

/** Graph stores at most 4 MB per photo. */
export const GRAPH_MAX_PHOTO_BYTES = 4 * 1024 * 1024;
