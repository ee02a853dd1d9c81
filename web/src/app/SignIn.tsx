import { useId, useState, type FormEvent } from "react";
import type { Auth, SignedInUser } from "../auth";
import { errorMessage } from "./format";
import { Logo } from "./icons";

/** Dev mode: a name is enough. Cognito / OIDC: a button that goes to the hosted sign-in page. */
export function SignIn({
  auth,
  notice,
  onSignedIn,
}: {
  auth: Auth;
  notice: string | null;
  onSignedIn: (user: SignedInUser) => void;
}) {
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const nameId = useId();

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (auth.mode === "dev" && !name.trim()) {
      setError("Enter a name to sign in.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const user = await auth.signIn(auth.mode === "dev" ? name.trim() : undefined);
      if (user) onSignedIn(user); // null: the browser is on its way to the sign-in page
    } catch (failure) {
      setError(errorMessage(failure));
      setBusy(false);
    }
  }

  return (
    <main className="splash">
      <form className="card sign-in" onSubmit={submit} noValidate>
        <Logo size={48} />
        <h1>Welcome to Chat</h1>
        {notice && <p className="notice">{notice}</p>}
        {auth.mode === "dev" ? (
          <>
            <p className="muted">Local development: sign in with any name, no password.</p>
            <label htmlFor={nameId}>Your name</label>
            <input
              id={nameId}
              className="input"
              value={name}
              onChange={(event) => setName(event.target.value)}
              autoComplete="nickname"
              maxLength={64}
              autoFocus
              required
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? `${nameId}-error` : undefined}
            />
          </>
        ) : (
          <p className="muted">You will be sent to your organisation’s sign-in page.</p>
        )}
        {error && (
          <p className="form-error" id={`${nameId}-error`} role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="button primary wide" disabled={busy} aria-busy={busy || undefined}>
          Sign in
        </button>
      </form>
    </main>
  );
}
