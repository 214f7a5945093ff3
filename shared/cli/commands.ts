import type { CommandDef } from './command-def.js';

/** Every command of the one `ollama-sentinel` binary; loaded lazily so one command's modules never slow another. */
export async function loadCommands(): Promise<CommandDef[]> {
  const modules = await Promise.all([
    import('../../exporter/exporter-command.js'),
    import('../../remediator/remediator-command.js'),
    import('../provision/init-command.js'),
    import('../../remediator/explain-command.js'),
  ]);
  return modules.map((m) => m.command);
}
