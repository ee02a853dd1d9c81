/* Small inline icons (decorative: every control that uses one has a text label or aria-label). */

const common = { width: 18, height: 18, viewBox: "0 0 24 24", fill: "none", stroke: "currentColor", strokeWidth: 2, strokeLinecap: "round", strokeLinejoin: "round", "aria-hidden": true, focusable: false } as const;

export const SunIcon = () => (
  <svg {...common}>
    <circle cx="12" cy="12" r="4" />
    <path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4" />
  </svg>
);
export const MoonIcon = () => (
  <svg {...common}>
    <path d="M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z" />
  </svg>
);
export const CloseIcon = () => (
  <svg {...common}>
    <path d="M18 6 6 18M6 6l12 12" />
  </svg>
);
export const BackIcon = () => (
  <svg {...common}>
    <path d="M19 12H5M12 19l-7-7 7-7" />
  </svg>
);
export const DownIcon = () => (
  <svg {...common} width={16} height={16}>
    <path d="M12 5v14M19 12l-7 7-7-7" />
  </svg>
);
export const CheckIcon = () => (
  <svg {...common} width={14} height={14}>
    <path d="M20 6 9 17l-5-5" />
  </svg>
);
export const ReplyIcon = () => (
  <svg {...common} width={14} height={14}>
    <path d="M9 14 4 9l5-5" />
    <path d="M4 9h10.5a5.5 5.5 0 0 1 0 11H11" />
  </svg>
);
export const EditIcon = () => (
  <svg {...common} width={14} height={14}>
    <path d="M12 20h9" />
    <path d="M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4z" />
  </svg>
);
export const TrashIcon = () => (
  <svg {...common} width={14} height={14}>
    <path d="M3 6h18M8 6V4h8v2M19 6l-1 14H6L5 6" />
  </svg>
);
export const SmileIcon = () => (
  <svg {...common} width={14} height={14}>
    <circle cx="12" cy="12" r="9" />
    <path d="M8 14s1.5 2 4 2 4-2 4-2M9 9.5h.01M15 9.5h.01" />
  </svg>
);
export const MoreIcon = () => (
  <svg {...common} width={16} height={16}>
    <path d="M5 12h.01M12 12h.01M19 12h.01" />
  </svg>
);
export const Logo = ({ size = 28 }: { size?: number }) => (
  <svg width={size} height={size} viewBox="0 0 64 64" aria-hidden="true" focusable="false">
    <rect width="64" height="64" rx="14" fill="var(--accent)" />
    <path d="M16 20a6 6 0 0 1 6-6h20a6 6 0 0 1 6 6v14a6 6 0 0 1-6 6H30l-9 8v-8h1a6 6 0 0 1-6-6z" fill="#fff" />
    <circle cx="25" cy="27" r="2.6" fill="var(--accent)" />
    <circle cx="32" cy="27" r="2.6" fill="var(--accent)" />
    <circle cx="39" cy="27" r="2.6" fill="var(--accent)" />
  </svg>
);
export const BellIcon = ({ size = 18 }: { size?: number }) => (
  <svg {...common} width={size} height={size}>
    <path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9M10.3 21a1.94 1.94 0 0 0 3.4 0" />
  </svg>
);
export const BellOffIcon = ({ size = 18 }: { size?: number }) => (
  <svg {...common} width={size} height={size}>
    <path d="M8.7 3A6 6 0 0 1 18 8a21.3 21.3 0 0 0 .6 5M17 17H3s3-2 3-9a4.67 4.67 0 0 1 .3-1.7M10.3 21a1.94 1.94 0 0 0 3.4 0M2 2l20 20" />
  </svg>
);
