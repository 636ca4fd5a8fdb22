export { createPlatformWorkers, type PlatformWorkers } from './platform-workers';
