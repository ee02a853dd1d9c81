import { useState } from "react";
import type { UserState } from "../../client";
import { Avatar } from "../Avatar";
import { errorMessage } from "../format";
import { useClient } from "../hooks";
import { Dialog } from "./Dialog";
import { SearchField, SearchStatus, usePeopleSearch } from "./PeopleSearch";

export function NewDirectDialog({ meId, onClose, onOpened }: { meId: string; onClose: () => void; onOpened: (roomId: string) => void }) {
  const client = useClient();
  const { query, setQuery, results, error } = usePeopleSearch(meId);
  const [busyId, setBusyId] = useState<string | null>(null);
  const [openError, setOpenError] = useState<string | null>(null);

  async function open(user: UserState) {
    setBusyId(user.id);
    setOpenError(null);
    try {
      const room = await client.openDirect(user.id);
      onOpened(room.id);
    } catch (failure) {
      setOpenError(`Could not open a chat with ${user.name}: ${errorMessage(failure)}`);
      setBusyId(null);
    }
  }

  return (
    <Dialog title="New direct chat" onClose={onClose}>
      <div className="dialog-form">
        <SearchField value={query} onChange={setQuery} autoFocus />
        <div className="people-results">
          <SearchStatus results={results} error={error} query={query} />
          {results && results.length > 0 && (
            <ul className="people">
              {results.map((user) => (
                <li key={user.id}>
                  <button
                    type="button"
                    className="person"
                    onClick={() => void open(user)}
                    disabled={busyId !== null}
                    aria-busy={busyId === user.id || undefined}
                    aria-describedby={`person-${user.id}-presence`}
                  >
                    <Avatar id={user.id} name={user.name} size="sm" />
                    <span className="person-name">{user.name}</span>
                    <span className={`presence-dot inline${user.online ? " online" : ""}`} aria-hidden="true" />
                  </button>
                  <span className="visually-hidden" id={`person-${user.id}-presence`}>
                    {user.online ? "online" : "offline"}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </div>
        {openError && <p className="form-error" role="alert">{openError}</p>}
      </div>
    </Dialog>
  );
}
