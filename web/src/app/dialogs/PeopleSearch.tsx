/* "Search people": users whose name starts with the query (everyone when empty), by name, without me. */

import { useEffect, useId, useState } from "react";
import type { UserState } from "../../client";
import { errorMessage } from "../format";
import { useClient } from "../hooks";

const DEBOUNCE_MS = 200;

export function usePeopleSearch(meId: string) {
  const client = useClient();
  const [query, setQuery] = useState("");
  const [results, setResults] = useState<UserState[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    const timer = window.setTimeout(
      () => {
        client
          .searchUsers(query.trim())
          .then((users) => {
            if (cancelled) return;
            setResults(users.filter((user) => user.id !== meId));
            setError(null);
          })
          .catch((failure: unknown) => {
            if (!cancelled) setError(`Search failed: ${errorMessage(failure)}`);
          });
      },
      query ? DEBOUNCE_MS : 0,
    );
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [client, query, meId]);

  return { query, setQuery, results, error };
}

export function SearchField({ value, onChange, autoFocus }: { value: string; onChange: (value: string) => void; autoFocus?: boolean }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>Search people</label>
      <input
        id={id}
        className="input"
        type="search"
        value={value}
        onChange={(event) => onChange(event.target.value)}
        autoComplete="off"
        autoFocus={autoFocus}
        maxLength={100}
      />
    </div>
  );
}

/** The state of a search, for the list's empty slot: searching, failed, or nobody found. */
export function SearchStatus({ results, error, query }: { results: UserState[] | null; error: string | null; query: string }) {
  if (error) return <p className="form-error" role="alert">{error}</p>;
  if (results === null) return <p className="muted" aria-busy="true">Searching…</p>;
  if (results.length === 0) return <p className="muted" role="status">{query.trim() ? `Nobody named “${query.trim()}…”` : "Nobody else here yet."}</p>;
  return null;
}
