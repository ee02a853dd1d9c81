import type { CSSProperties } from "react";
import { hueFor, initials } from "./format";

/** Initials on a colour derived from the user id; decorative (the name is always written next to it). */
export function Avatar({ id, name, size = "md" }: { id: string; name: string; size?: "sm" | "md" }) {
  return (
    <span className={`avatar avatar-${size}`} style={{ "--hue": hueFor(id) } as CSSProperties} aria-hidden="true">
      {initials(name)}
    </span>
  );
}
