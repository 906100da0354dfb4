/** The parts of package-lock.json (lockfileVersion 3) that say which packages get installed. */
export interface Lockfile {
  packages: Record<
    string,
    { version?: string; integrity?: string; optionalDependencies?: Record<string, string>; os?: string[]; cpu?: string[] }
  >;
}

/**
 * Optional dependencies the lockfile does not pin: for each package that declares one (the
 * per-platform binaries of @stripe/cli, workerd, esbuild, …), the entry npm would install from,
 * found the way Node resolves (its own node_modules, then each parent's), must exist with the
 * exact version asked for and an integrity hash. npm writes only the platforms its registry had
 * when the lockfile was made, and `npm ci` then installs nothing for the others, so a binary is
 * silently missing on macOS or Windows.
 *
 * @example
 * expect(unpinnedOptionalDependencies(lock)).toEqual([]);
 */
export function unpinnedOptionalDependencies(lock: Lockfile): string[] {
  const problems: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    for (const [name, spec] of Object.entries(entry.optionalDependencies ?? {})) {
      const found = resolve(lock, path, name);
      const exact = /^\d+\.\d+\.\d+(-[\w.]+)?$/.test(spec);
      if (!found) problems.push(`${path || "(root)"} → ${name}@${spec}: not in the lockfile`);
      else if (exact && found.entry.version !== spec)
        problems.push(`${path || "(root)"} → ${name}@${spec}: the lockfile has ${found.entry.version} at ${found.at}`);
      else if (!found.entry.integrity) problems.push(`${path || "(root)"} → ${name}@${spec}: no integrity hash at ${found.at}`);
    }
  }
  return problems;
}

/** Where `require(name)` from the package at `path` would land: its own node_modules, then each ancestor's. */
function resolve(lock: Lockfile, path: string, name: string): { at: string; entry: Lockfile["packages"][string] } | null {
  let dir = path;
  for (;;) {
    const at = dir === "" ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    const entry = lock.packages[at];
    if (entry) return { at, entry };
    if (dir === "") return null;
    const cut = dir.lastIndexOf("/node_modules/");
    dir = cut === -1 ? "" : dir.slice(0, cut);
  }
}
