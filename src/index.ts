import { defaultHandlers } from "./handlers";
import { createWorker } from "./worker";

export default createWorker({ handlers: defaultHandlers() });
