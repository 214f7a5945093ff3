/** Cumulative resource use of one container, whatever source it was read from. */
export interface ContainerUsage {
  /** CPU time of all its processes, user + system. */
  readonly cpuSeconds: number;
  /** Working set: usage minus inactive file cache (what `docker stats` shows and what the OOM killer weighs). */
  readonly memoryBytes: number;
  readonly ioReadBytes: number;
  readonly ioWriteBytes: number;
  /** cgroup files read directly, or the Docker stats API. */
  readonly source: 'cgroup_v1' | 'cgroup_v2' | 'docker';
}
