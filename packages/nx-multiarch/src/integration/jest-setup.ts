import { stopAll } from './index';

/**
 * Loaded by the arch-integration Jest config after the test framework: every
 * test file ends by stopping whatever it started and removing the unpacked
 * filesystems, even when a test failed before its own stop().
 */
type Hook = (fn: () => Promise<void>, timeoutMs?: number) => void;
const afterAllHook = (globalThis as { afterAll?: Hook }).afterAll;
if (afterAllHook) afterAllHook(() => stopAll(), 60_000);
