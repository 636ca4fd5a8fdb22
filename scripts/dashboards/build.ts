import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ragPlatformDashboard } from './rag-platform';

/** Writes the provisioned dashboards from their definitions (`npm run dashboards`). */
export const DASHBOARD_FILE = join(__dirname, '..', '..', 'ops', 'grafana', 'dashboards', 'rag-platform.json');
export const dashboardJson = () => `${JSON.stringify(ragPlatformDashboard(), null, 2)}\n`;

if (require.main === module) writeFileSync(DASHBOARD_FILE, dashboardJson());
