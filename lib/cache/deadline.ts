/** A cache call that takes longer than this is abandoned as a miss: a slow cache must not slow what it speeds up. */
export async function withinDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the cache did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
    // The abandoned call may still fail later; nobody waits for it.
    work.catch(() => undefined);
  }
}
