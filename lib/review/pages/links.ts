/** The review pages' paths (the ids are validated before any link is built; each segment is encoded all the same). */
export const reviewLinks = {
  overview: '/review',
  batch: (batch: string) => `/review/batches/${encodeURIComponent(batch)}`,
  cluster: (batch: string, cluster: string) => `/review/batches/${encodeURIComponent(batch)}/clusters/${encodeURIComponent(cluster)}`,
};
