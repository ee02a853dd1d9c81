/* A group's members; its admins also rename it, add members and remove them (each removal confirmed in place). */
import { useId, useState, type FormEvent } from "react";
import type { RoomSummary, UserState } from "../../client";
import { Avatar } from "../Avatar";
import { errorMessage } from "../format";
import { useClient } from "../hooks";
import { Dialog } from "./Dialog";

interface Props {
  room: RoomSummary;
  users: Record<string, UserState>;
  meId: string;
  isAdmin: boolean;
  onClose: () => void;
  onAddMembers: () => void;
}

export function MembersDialog({ room, users, meId, isAdmin, onClose, onAddMembers }: Props) {
  const client = useClient();
  const nameId = useId();
  const [name, setName] = useState(room.name ?? "");
  const [renaming, setRenaming] = useState(false);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [removing, setRemoving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const nameOf = (id: string) => (id === meId ? `${users[id]?.name ?? "You"} (you)` : (users[id]?.name ?? "Unknown user"));
  const admins = new Set(room.adminIds ?? []);
  const members = [...room.memberIds].sort((a, b) => (a === meId ? -1 : b === meId ? 1 : nameOf(a).localeCompare(nameOf(b))));
  const hidden = room.memberCount - room.memberIds.length;

  async function rename(event: FormEvent) {
    event.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) {
      setError("Give the group a name.");
      return;
    }
    if (trimmed === room.name) return;
    setRenaming(true);
    setError(null);
    try {
      await client.renameRoom(room.id, trimmed);
      setNotice(`Renamed to ${trimmed}.`);
    } catch (failure) {
      setError(`Could not rename the group: ${errorMessage(failure)}`);
    } finally {
      setRenaming(false);
    }
  }

  async function remove(userId: string) {
    setRemoving(true);
    setError(null);
    try {
      await client.removeMember(room.id, userId);
      setNotice(`${nameOf(userId)} was removed.`);
      setConfirming(null);
    } catch (failure) {
      setError(`Could not remove ${nameOf(userId)}: ${errorMessage(failure)}`);
    } finally {
      setRemoving(false);
    }
  }

  return (
    <Dialog title={`Members of ${room.name ?? "the group"}`} onClose={onClose} focusField={false}>
      <div className="dialog-form">
        {isAdmin && (
          <form className="rename-form" onSubmit={rename} noValidate>
            <div className="field">
              <label htmlFor={nameId}>Room name</label>
              <div className="rename-row">
                <input id={nameId} className="input" value={name} onChange={(event) => setName(event.target.value)} maxLength={100} required />
                <button type="submit" className="button" disabled={renaming || !name.trim() || name.trim() === room.name} aria-busy={renaming || undefined}>
                  Rename
                </button>
              </div>
            </div>
          </form>
        )}
        <div className="members-head">
          <h3 className="members-title">
            {room.memberCount} member{room.memberCount === 1 ? "" : "s"}
          </h3>
          {isAdmin && (
            <button type="button" className="button subtle small" onClick={onAddMembers}>
              Add members
            </button>
          )}
        </div>
        <ul className="members" aria-label="Members">
          {members.map((id) => (
            <li key={id} className="member">
              <Avatar id={id} name={users[id]?.name ?? "?"} size="sm" />
              <span className="member-name">{nameOf(id)}</span>
              {admins.has(id) && <span className="tag">Admin</span>}
              {isAdmin && id !== meId && confirming !== id && (
                <button type="button" className="button subtle small danger" onClick={() => setConfirming(id)} aria-label={`Remove ${nameOf(id)}`}>
                  Remove
                </button>
              )}
              {confirming === id && (
                <span className="member-confirm" role="group" aria-label={`Remove ${nameOf(id)}?`}>
                  <span>Remove?</span>
                  <button type="button" className="button small danger-fill" onClick={() => void remove(id)} disabled={removing} autoFocus>
                    Yes, remove
                  </button>
                  <button type="button" className="button subtle small" onClick={() => setConfirming(null)}>
                    Cancel
                  </button>
                </span>
              )}
            </li>
          ))}
        </ul>
        {hidden > 0 && <p className="muted">and {hidden} more</p>}
        {error && <p className="form-error" role="alert">{error}</p>}
        <p className="visually-hidden" role="status">
          {notice}
        </p>
        <div className="dialog-actions">
          <button type="button" className="button subtle" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </Dialog>
  );
}
