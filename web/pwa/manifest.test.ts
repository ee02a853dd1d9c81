import { readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const web = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));
const manifest = JSON.parse(readFileSync(web("public/manifest.webmanifest"), "utf8")) as {
  theme_color: string;
  background_color: string;
  icons: { src: string; sizes: string; purpose?: string }[];
};
const theme = readFileSync(web("src/app/theme.css"), "utf8");
const index = readFileSync(web("index.html"), "utf8");

/** A custom property's value in the light (first) and dark (second) blocks of theme.css. */
function colours(name: string): string[] {
  return [...theme.matchAll(new RegExp(`--${name}:\\s*(#[0-9a-f]{6})`, "gi"))].map((match) => match[1]!.toLowerCase());
}

describe("the web app manifest", () => {
  it("has the theme's colours: the top bar's surface, the page's background", () => {
    const [surfaceLight, surfaceDark] = colours("surface");
    expect(manifest.theme_color).toBe(surfaceLight);
    expect(manifest.background_color).toBe(colours("bg")[0]);
    // index.html's theme-color follows the colour scheme, as the top bar does.
    expect(index).toContain(`<meta name="theme-color" content="${surfaceLight}" media="(prefers-color-scheme: light)" />`);
    expect(index).toContain(`<meta name="theme-color" content="${surfaceDark}" media="(prefers-color-scheme: dark)" />`);
  });

  it("names icons that exist: 192 and 512 px, and a maskable one", () => {
    const kinds = manifest.icons.map((icon) => `${icon.sizes} ${icon.purpose ?? "any"}`);
    expect(kinds).toEqual(expect.arrayContaining(["192x192 any", "512x512 any", "512x512 maskable"]));
    for (const icon of manifest.icons) expect(statSync(web(`public${icon.src}`)).isFile()).toBe(true);
    expect(index).toContain('<link rel="manifest" href="/manifest.webmanifest" />');
  });
});
