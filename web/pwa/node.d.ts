/* The few Node APIs the build plugin and its test use (the project has no @types/node). */
declare module "node:fs" {
  export function readFileSync(path: string): Uint8Array;
  export function readFileSync(path: string, encoding: "utf8"): string;
  export function writeFileSync(path: string, data: string | Uint8Array): void;
  export function readdirSync(path: string, options: { recursive: true }): string[];
  export function statSync(path: string): { isFile(): boolean };
  export function mkdirSync(path: string, options?: { recursive?: boolean }): void;
  export function mkdtempSync(prefix: string): string;
  export function rmSync(path: string, options?: { recursive?: boolean; force?: boolean }): void;
}
declare module "node:os" {
  export function tmpdir(): string;
}
declare module "node:path" {
  export function join(...parts: string[]): string;
  export function resolve(...parts: string[]): string;
  export const sep: string;
}
declare module "node:url" {
  export function fileURLToPath(url: string | URL): string;
}
