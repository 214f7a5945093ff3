import type { CommandDef } from './command-def.js';

/** Every command of the one `ollama-sentinel` binary (their config sections are needed to validate a shared file). */
export async function loadCommands(): Promise<CommandDef[]> {
  const modules = await Promise.all([
    import('../../exporter/exporter-command.js'),
    import('../../remediator/remediator-command.js'),
    import('../provision/init-command.js'),
    import('../../remediator/explain-command.js'),
  ]);
  return modules.map((m) => m.command);
}
