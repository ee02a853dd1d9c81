import { useState, type FormEvent } from "react";
import type { RoomSummary, UserState } from "../../client";
import { errorMessage } from "../format";
import { useClient } from "../hooks";
import { Dialog } from "./Dialog";
import { PeoplePicker } from "./PeoplePicker";

export function AddMembersDialog({ room, meId, onClose }: { room: RoomSummary; meId: string; onClose: () => void }) {
  const client = useClient();
  const [chosen, setChosen] = useState(new Map<string, UserState>());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const members = new Set(room.memberIds);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (chosen.size === 0) {
      setError("Choose at least one person.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await client.addMembers(room.id, [...chosen.keys()]);
      onClose();
    } catch (failure) {
      setError(`Could not add them: ${errorMessage(failure)}`);
      setBusy(false);
    }
  }

  return (
    <Dialog title={`Add members to ${room.name ?? "the group"}`} onClose={onClose}>
      <form className="dialog-form" onSubmit={submit} noValidate>
        <PeoplePicker meId={meId} chosen={chosen} onChange={setChosen} excluded={members} autoFocus />
        {error && <p className="form-error" role="alert">{error}</p>}
        <div className="dialog-actions">
          <button type="button" className="button subtle" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button primary" disabled={busy} aria-busy={busy || undefined}>
            Add
          </button>
        </div>
      </form>
    </Dialog>
  );
}
