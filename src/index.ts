import { defaultHandlers } from "./handlers";
import { createWorker } from "./worker";

export { BillingService } from "./entrypoints/billing-service";

export default createWorker({ handlers: defaultHandlers() });
