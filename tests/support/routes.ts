import type { Express } from 'express';

export interface MountedRoute {
  method: string;
  path: string;
}

interface Layer {
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/**
 * Every route an Express app really answers, read from its router (nested routers included): what
 * is mounted, not what a table says is mounted. Tests use it so that a route added by any means is
 * covered without editing them. Reads Express 5's router stack, which is not a public API: if an
 * upgrade changes it, this finds nothing and the tests that use it fail loudly.
 */
export function mountedRoutes(app: Express): MountedRoute[] {
  const found: MountedRoute[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const path of paths)
          for (const [method, on] of Object.entries(layer.route.methods))
            if (on && typeof path === 'string') found.push({ method, path });
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  if (found.length === 0) throw new Error('no routes found: has the Express router changed shape?');
  return found;
}
