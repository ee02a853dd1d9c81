/* Choosing several people: a search, results as checkboxes labelled with each name, and the chosen ones as
 * removable chips (they stay chosen when the search changes). */

import type { UserState } from "../../client";
import { Avatar } from "../Avatar";
import { CloseIcon } from "../icons";
import { SearchField, SearchStatus, usePeopleSearch } from "./PeopleSearch";

export function PeoplePicker({
  meId,
  chosen,
  onChange,
  excluded = new Set<string>(),
  autoFocus,
}: {
  meId: string;
  chosen: Map<string, UserState>;
  onChange: (chosen: Map<string, UserState>) => void;
  excluded?: Set<string>;
  autoFocus?: boolean;
}) {
  const { query, setQuery, results, error } = usePeopleSearch(meId);
  const toggle = (user: UserState, checked: boolean) => {
    const next = new Map(chosen);
    if (checked) next.set(user.id, user);
    else next.delete(user.id);
    onChange(next);
  };
  const shown = results?.filter((user) => !excluded.has(user.id)) ?? null;
  return (
    <div className="people-picker">
      {chosen.size > 0 && (
        <ul className="chips" aria-label="Chosen people">
          {[...chosen.values()].map((user) => (
            <li key={user.id} className="chip">
              {user.name}
              <button type="button" className="chip-remove" aria-label={`Remove ${user.name}`} onClick={() => toggle(user, false)}>
                <CloseIcon />
              </button>
            </li>
          ))}
        </ul>
      )}
      <SearchField value={query} onChange={setQuery} autoFocus={autoFocus} />
      <div className="people-results">
        <SearchStatus results={shown} error={error} query={query} />
        {shown && shown.length > 0 && (
          <ul className="people">
            {shown.map((user) => (
              <li key={user.id}>
                <label className="person">
                  <input type="checkbox" checked={chosen.has(user.id)} onChange={(event) => toggle(user, event.target.checked)} />
                  <Avatar id={user.id} name={user.name} size="sm" />
                  <span className="person-name">{user.name}</span>
                  <span className={`presence-dot inline${user.online ? " online" : ""}`} aria-hidden="true" />
                </label>
              </li>
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}
