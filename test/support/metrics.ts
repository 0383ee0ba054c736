/**
 * The value of one series of the gateway's `GET /metrics` (on the origin of `url`), named as
 * Prometheus prints it: `photo_images_waiting`, or with its labels,
 * `graph_batches_total{status="200"}`. 0 when the series is not printed (a counter not yet
 * counted).
 */
export async function metric(url: string, series: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', url))).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}
