// A file in the conversation: preview (for images), name and size, a progress bar while it
// moves, Cancel while it can be stopped, and Save once it has arrived intact.
import type { FileView, ParleyClient } from '../messaging/parley-client.ts';
import { formatBytes } from '../messaging/file-size.ts';

const STATUS: Record<FileView['status'], string> = {
  offered: 'Offered',
  sending: 'Sending',
  receiving: 'Receiving',
  paused: 'Paused: continues when you call again',
  done: 'Complete · checked',
  failed: 'Failed the integrity check',
  cancelled: 'Cancelled',
  'no-space': 'Not enough storage space in this browser to receive it',
  'not-saved': 'Could not be saved in this browser',
};

/** What the sender reads where the receiver's wording would be wrong. */
const MINE: Partial<Record<FileView['status'], string>> = {
  done: 'Sent · checked',
  'no-space': 'Not enough storage space in their browser to receive it',
  'not-saved': 'Could not be saved in their browser',
};

export function FileBubble({ client, id, file, mine }: { client: ParleyClient; id: string; file: FileView; mine: boolean }) {
  const moving = file.status === 'sending' || file.status === 'receiving' || file.status === 'paused';
  const save = async () => {
    const url = await client.fileUrl(id);
    if (!url) return;
    const a = document.createElement('a');
    a.href = url;
    a.download = file.name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  };
  return (
    <span className="file">
      {file.thumbnail && <img className="file-thumb" src={file.thumbnail} alt={`Preview of ${file.name}`} />}
      <span className="file-name">{file.name}</span>
      <span className="file-meta">
        {formatBytes(file.size)} · {(mine && MINE[file.status]) || STATUS[file.status]}
      </span>
      {moving && (
        <span className="row">
          <progress aria-label={`Transfer of ${file.name}`} max={Math.max(1, file.size)} value={file.bytes} />
          <button type="button" className="icon-button" onClick={() => void client.cancelTransfer(id)}>
            Cancel transfer
          </button>
        </span>
      )}
      {file.status === 'done' && !mine && (
        <button type="button" onClick={() => void save()}>
          Save {file.name}
        </button>
      )}
    </span>
  );
}
