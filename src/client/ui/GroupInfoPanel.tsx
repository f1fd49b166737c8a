// "Group info": the group's name (admins rename it), its members with their safety numbers and
// verified marks, and what an admin may do (add, remove, make admin); anyone may leave.
import { useId, useState, type FormEvent } from 'react';
import type { GroupInfo, ParleyClient } from '../messaging/parley-client.ts';

export function GroupInfoPanel({ client, group }: { client: ParleyClient; group: GroupInfo }) {
  const id = useId();
  const [name, setName] = useState(group.name);
  const [member, setMember] = useState('');
  const rename = (e: FormEvent) => {
    e.preventDefault();
    void client.renameGroup(name);
  };
  const add = (e: FormEvent) => {
    e.preventDefault();
    void client.addToGroup(member).then((ok) => ok && setMember(''));
  };
  return (
    <section className="safety group-info" aria-label="Group info">
      <h3>{group.name}</h3>
      {group.amAdmin && (
        <form aria-label="Rename group" className="row" onSubmit={rename}>
          <label htmlFor={`${id}-name`}>Group name</label>
          <input id={`${id}-name`} value={name} maxLength={100} onChange={(e) => setName(e.target.value)} />
          <button type="submit">Rename</button>
        </form>
      )}
      <ul aria-label="Members" className="member-list">
        {group.members.map((m) => (
          <li key={m.name}>
            <span className="member-name">
              {m.me ? `${m.name} (you)` : m.name}
              {m.admin && <span className="tag"> admin</span>}
              {m.verified && <span className="verified"> Verified</span>}
            </span>
            {m.security?.safetyNumber && (
              <span className="member-safety" aria-label={`Safety number with ${m.name}`}>
                {m.security.safetyNumber.match(/\d{5}/g)?.join(' ')}
              </span>
            )}
            {group.amAdmin && !m.me && (
              <span className="row">
                {!m.admin && (
                  <button type="button" onClick={() => void client.makeGroupAdmin(m.name)}>
                    Make admin
                  </button>
                )}
                <button type="button" className="danger" onClick={() => void client.removeFromGroup(m.name)}>
                  Remove {m.name}
                </button>
              </span>
            )}
          </li>
        ))}
      </ul>
      {group.amAdmin && (
        <form aria-label="Add member" className="row" onSubmit={add}>
          <label htmlFor={`${id}-member`}>Add member</label>
          <input id={`${id}-member`} autoCapitalize="none" autoComplete="off" spellCheck={false} value={member} onChange={(e) => setMember(e.target.value)} />
          <button type="submit">Add</button>
        </form>
      )}
      <div className="row">
        {group.amMember && (
          <button type="button" className="danger" onClick={() => void client.leaveGroup()}>
            Leave group
          </button>
        )}
        <button type="button" onClick={() => void client.setGroupInfoOpen(false)}>
          Close
        </button>
      </div>
    </section>
  );
}
