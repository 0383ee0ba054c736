/** A promise a test settles when it chooses: hand `closed` to the simulator's `holdUntil`, then `open()`. */
export function gate(): { closed: Promise<void>; open(): void } {
  let open!: () => void;
  const closed = new Promise<void>((resolve) => (open = resolve));
  return { closed, open };
}
