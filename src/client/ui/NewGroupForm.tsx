// "New group": a name, and members added one username at a time (each checked against the
// directory as it is added). The group then exists in the members' browsers only: the server
// relays pairwise envelopes and never learns it.
import { useId, useState, type FormEvent } from 'react';
import { MAX_GROUP_MEMBERS, type ParleyClient } from '../messaging/parley-client.ts';

export function NewGroupForm({ client }: { client: ParleyClient }) {
  const id = useId();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [member, setMember] = useState('');
  const [members, setMembers] = useState<string[]>([]);
  const add = async () => {
    if (members.length + 1 >= MAX_GROUP_MEMBERS) {
      client.showError(`A group has at most ${MAX_GROUP_MEMBERS} members.`);
      return;
    }
    const checked = await client.checkMember(member);
    if (!checked) return;
    setMembers((list) => (list.includes(checked) ? list : [...list, checked]));
    setMember('');
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void client.createGroup(name, members).then((ok) => {
      if (!ok) return;
      setOpen(false);
      setName('');
      setMembers([]);
    });
  };
  if (!open) {
    return (
      <button type="button" className="link-button" onClick={() => setOpen(true)}>
        New group
      </button>
    );
  }
  return (
    <form aria-label="New group" className="call-form group-form" onSubmit={submit} noValidate>
      <label htmlFor={`${id}-name`}>Group name</label>
      <input id={`${id}-name`} value={name} maxLength={100} onChange={(e) => setName(e.target.value)} />
      <label htmlFor={`${id}-member`}>Add member</label>
      <div className="row">
        <input
          id={`${id}-member`}
          autoCapitalize="none"
          autoComplete="off"
          spellCheck={false}
          placeholder="username"
          value={member}
          onChange={(e) => setMember(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              void add();
            }
          }}
        />
        <button type="button" onClick={() => void add()}>
          Add
        </button>
      </div>
      <ul aria-label="Members" className="member-list">
        {members.map((m) => (
          <li key={m}>
            <span>{m}</span>
            <button type="button" className="link-button" onClick={() => setMembers((list) => list.filter((x) => x !== m))}>
              Remove {m}
            </button>
          </li>
        ))}
      </ul>
      <div className="row">
        <button type="submit" className="primary">
          Create group
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
