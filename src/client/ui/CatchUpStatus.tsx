import type { CatchUpProgress } from '../messaging/catch-up.ts';

const count = (n: number) => n.toLocaleString('en-US');

/** "Catching up: 4,210 of 10,000": messages that waited on the server, being stored after a reconnect. */
export function CatchUpStatus({ progress }: { progress: CatchUpProgress | null }) {
  if (!progress) return null;
  const text = `Catching up: ${count(progress.done)} of ${count(progress.total)}`;
  return (
    <div className="hint catch-up" role="status">
      <span>{text}</span>
      <progress max={progress.total} value={progress.done} aria-label={text} />
    </div>
  );
}
