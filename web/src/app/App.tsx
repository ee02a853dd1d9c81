/* Boot: the settings (/config.json), then the session (finishing a sign-in redirect, or restoring one), then
 * either the sign-in screen or the chat. */

import { useCallback, useEffect, useRef, useState } from "react";
import { createAuth, loadConfig, type AppConfig, type Auth, type SignedInUser } from "../auth";
import { ChatScreen } from "./ChatScreen";
import { errorMessage } from "./format";
import { forgetOfflineSnapshot, loadConfigOrLast } from "./offline";
import { SignIn } from "./SignIn";
import { UpdatePrompt } from "./UpdatePrompt";

type Boot =
  | { stage: "loading" }
  | { stage: "configError"; message: string }
  | { stage: "signedOut"; config: AppConfig; auth: Auth; notice: string | null }
  | { stage: "signedIn"; config: AppConfig; auth: Auth; user: SignedInUser };

export function App() {
  const [boot, setBoot] = useState<Boot>({ stage: "loading" });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let cancelled = false;
    (async () => {
      let config: AppConfig;
      let auth: Auth;
      try {
        config = await loadConfigOrLast((fetcher) => loadConfig({ fetch: fetcher }));
        auth = createAuth(config.auth);
      } catch (error) {
        if (!cancelled) setBoot({ stage: "configError", message: errorMessage(error) });
        return;
      }
      try {
        const user = await auth.init();
        if (cancelled) return;
        setBoot(
          user
            ? { stage: "signedIn", config, auth, user }
            : { stage: "signedOut", config, auth, notice: auth.lastError ? `Sign-in failed: ${auth.lastError}` : null },
        );
      } catch (error) {
        if (!cancelled) setBoot({ stage: "signedOut", config, auth, notice: `Sign-in failed: ${errorMessage(error)}` });
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [attempt]);

  const auth = boot.stage === "signedIn" || boot.stage === "signedOut" ? boot.auth : null;
  const config = boot.stage === "signedIn" || boot.stage === "signedOut" ? boot.config : null;

  // Whoever is signed in now: their saved chats are forgotten when the session ends.
  const userId = useRef<string | null>(null);
  const signedInId = boot.stage === "signedIn" ? boot.user.id : null;
  useEffect(() => {
    if (signedInId) userId.current = signedInId;
  }, [signedInId]);
  const forgetUser = useCallback(() => {
    if (userId.current) forgetOfflineSnapshot(userId.current);
    userId.current = null;
  }, []);

  // The session can end on its own (a refresh refused, here or in another tab): back to sign-in, saying why.
  useEffect(() => {
    if (!auth || !config) return;
    return auth.onSignedOut(() => {
      forgetUser();
      setBoot({ stage: "signedOut", config, auth, notice: "You were signed out. Sign in again to keep chatting." });
    });
  }, [auth, config, forgetUser]);

  const signedIn = useCallback(
    (user: SignedInUser) => {
      if (auth && config) setBoot({ stage: "signedIn", config, auth, user });
    },
    [auth, config],
  );

  const signOut = useCallback(
    async (notice: string | null = null) => {
      if (!auth || !config) return;
      forgetUser();
      setBoot({ stage: "signedOut", config, auth, notice });
      try {
        await auth.signOut(); // Cognito/OIDC navigate away to end the hosted session.
      } catch (error) {
        setBoot({ stage: "signedOut", config, auth, notice: `Signed out here, but: ${errorMessage(error)}` });
      }
    },
    [auth, config, forgetUser],
  );

  return (
    <>
      {screen()}
      <UpdatePrompt />
    </>
  );

  function screen() {
    switch (boot.stage) {
      case "loading":
        return (
          <main className="splash" aria-busy="true">
            <p className="splash-text">Loading…</p>
          </main>
        );
      case "configError":
        return (
          <main className="splash">
            <div className="card error-card" role="alert">
              <h1>The chat could not start</h1>
              <p>Its settings could not be loaded, so it does not know where to connect.</p>
              <p className="error-detail">{boot.message}</p>
              <button type="button" className="button primary" onClick={() => setAttempt((n) => n + 1)}>
                Try again
              </button>
            </div>
          </main>
        );
      case "signedOut":
        return <SignIn auth={boot.auth} notice={boot.notice} onSignedIn={signedIn} />;
      case "signedIn":
        return (
          <ChatScreen
            key={boot.user.id}
            config={boot.config}
            auth={boot.auth}
            user={boot.user}
            onSignOut={() => void signOut()}
            onSessionEnded={(reason) => void signOut(`Your session ended (${reason}). Sign in again.`)}
          />
        );
    }
  }
}
