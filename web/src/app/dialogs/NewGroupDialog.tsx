import { useId, useState, type FormEvent } from "react";
import type { UserState } from "../../client";
import { errorMessage } from "../format";
import { useClient } from "../hooks";
import { Dialog } from "./Dialog";
import { PeoplePicker } from "./PeoplePicker";

export function NewGroupDialog({ meId, onClose, onCreated }: { meId: string; onClose: () => void; onCreated: (roomId: string) => void }) {
  const client = useClient();
  const nameId = useId();
  const [name, setName] = useState("");
  const [chosen, setChosen] = useState(new Map<string, UserState>());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!name.trim()) {
      setError("Give the group a name.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const room = await client.createRoom(name.trim(), [...chosen.keys()]);
      onCreated(room.id);
    } catch (failure) {
      setError(`Could not create the group: ${errorMessage(failure)}`);
      setBusy(false);
    }
  }

  return (
    <Dialog title="New group" onClose={onClose}>
      <form className="dialog-form" onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor={nameId}>Group name</label>
          <input id={nameId} className="input" value={name} onChange={(event) => setName(event.target.value)} maxLength={100} autoFocus required />
        </div>
        <PeoplePicker meId={meId} chosen={chosen} onChange={setChosen} />
        {error && <p className="form-error" role="alert">{error}</p>}
        <div className="dialog-actions">
          <button type="button" className="button subtle" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button primary" disabled={busy} aria-busy={busy || undefined}>
            Create group
          </button>
        </div>
      </form>
    </Dialog>
  );
}
