import type { DestinationConfig, ModelConfig, Project, SourceConfig, SyncConfig } from '../config/project.ts';
import type { Source } from '../sources/source.ts';
import type { Destination } from '../destinations/destination.ts';
import { sourceTypes } from '../sources/registry.ts';
import { destinationTypes } from '../destinations/registry.ts';
import { ConfigError } from '../errors.ts';

/** A sync with everything it names looked up: its model, source and destination. */
export interface ResolvedSync {
  sync: SyncConfig;
  model: ModelConfig;
  sourceConfig: SourceConfig;
  destinationConfig: DestinationConfig;
}

export function resolveSync(project: Project, syncName: string): ResolvedSync {
  const sync = project.syncs[syncName];
  if (!sync) {
    const known = Object.keys(project.syncs).join(', ') || 'none';
    throw new ConfigError(`no sync named "${syncName}" (syncs: ${known})`, { file: project.configPath });
  }
  const model = project.models[sync.model];
  const destinationConfig = project.destinations[sync.destination];
  const sourceConfig = model && project.sources[model.source];
  if (!model || !destinationConfig || !sourceConfig) {
    throw new ConfigError(`sync "${syncName}" names a model, source or destination that does not exist`, sync.location);
  }
  return { sync, model, sourceConfig, destinationConfig };
}

export function createSource(project: Project, config: SourceConfig): Source {
  const type = sourceTypes[config.type];
  if (!type) throw new ConfigError(`source "${config.name}": unknown type "${config.type}"`, { file: project.configPath });
  return type.create(config, project.rootDir);
}

export function createDestination(project: Project, resolved: ResolvedSync): Destination {
  const { destinationConfig: connection, sync } = resolved;
  const type = destinationTypes[connection.type];
  if (!type) throw new ConfigError(`destination "${connection.name}": unknown type "${connection.type}"`, { file: project.configPath });
  return type.create({ connection, options: sync.options, sync, rootDir: project.rootDir });
}
