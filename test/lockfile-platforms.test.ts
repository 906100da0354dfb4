import { describe, expect, it } from "vitest";
import lockfile from "../package-lock.json";
import { type Lockfile, unpinnedOptionalDependencies } from "./helpers/lockfile";

const lock = lockfile as unknown as Lockfile;

describe("package-lock.json", () => {
  it("pins every platform build of every package (npm ci installs the same on Linux, macOS and Windows)", () => {
    expect(unpinnedOptionalDependencies(lock)).toEqual([]);
  });

  it.each([
    ["the Stripe CLI", "@stripe/cli", ["linux", "darwin", "win32"]],
    ["Biome", "@biomejs/biome", ["android", "linux", "darwin", "win32"]],
  ])("has the %s binary for every platform it is built for, at the pinned version", (_name, pkg, platforms) => {
    const cli = lock.packages[`node_modules/${pkg}`]!;
    const builds = Object.keys(cli.optionalDependencies ?? {}).map((name) => lock.packages[`node_modules/${name}`]);
    expect(builds.every((b) => b?.version === cli.version)).toBe(true);
    expect(new Set(builds.flatMap((b) => b?.os ?? []))).toEqual(new Set(platforms));
  });

  it("is reported when a platform build of @stripe/cli is missing", () => {
    const broken = structuredClone(lock);
    delete broken.packages["node_modules/@stripe/cli-win32-x64"];
    expect(unpinnedOptionalDependencies(broken)).toEqual([
      `node_modules/@stripe/cli → @stripe/cli-win32-x64@${lock.packages["node_modules/@stripe/cli"]!.version}: not in the lockfile`,
    ]);
  });

  it("is reported when a nested platform build has another version than its parent asks for", () => {
    const broken = structuredClone(lock);
    broken.packages["node_modules/@stripe/cli"]!.optionalDependencies!["@stripe/cli-linux-x64"] = "9.9.9";
    expect(unpinnedOptionalDependencies(broken)).toEqual([
      expect.stringMatching(/^node_modules\/@stripe\/cli → @stripe\/cli-linux-x64@9\.9\.9: the lockfile has \d/),
    ]);
  });
});
