import { PlatformError } from '../../lib/errors';
import type { DeploymentStore, NewDeployment } from '../../lib/stores/deployment-store';
import type { Caller } from '../plugins/auth';
import { requirePlatformAdmin } from './admin-service';

/** The platform's commit and the hash of the configuration answers depend on: stamped on every piece of evidence. */
export interface BuildStamp {
  platformCommit: string;
  configHash: string;
}

/** Deployment evidence: operators list it and read each decision's report; promotions and rollbacks write it. */
export class DeploymentService {
  constructor(
    private readonly store: DeploymentStore,
    readonly stamp: BuildStamp,
  ) {}

  async record(deployment: Omit<NewDeployment, 'platformCommit' | 'configHash'>): Promise<number> {
    return this.store.record({ ...deployment, ...this.stamp });
  }

  async list(caller: Caller, query: { kind?: string; target?: string; limit: number }) {
    requirePlatformAdmin(caller, 'read deployment evidence');
    return this.store.list(query);
  }

  async get(caller: Caller, id: number) {
    requirePlatformAdmin(caller, 'read deployment evidence');
    const found = await this.store.get(id);
    if (!found) throw new PlatformError('deployment_not_found', `no deployment ${id}`, 404);
    return found;
  }
}
