import type { Job } from 'bullmq';
import type { JobPayloads } from '../registry';
import type { MaintenanceService } from '../../services/maintenance';

export function maintenanceProcessor(maintenance: MaintenanceService) {
  return async (job: Job<JobPayloads['maintenance']>) => {
    switch (job.data.task) {
      case 'reconcile':
        return maintenance.reconcile();
      case 'renew-watches':
        return maintenance.renewWatches();
    }
  };
}
