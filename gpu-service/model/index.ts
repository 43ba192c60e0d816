export { type ClipEncoders, ClipModel, type ClipModelOptions, type TextBatch } from "./clip-model.ts";
export {
  ModelUnavailableError,
  ThreadedClipModel,
  type ThreadedClipModelOptions,
} from "./inference-thread.ts";
export { type ModelFolder, ModelFolderError, type Precision, readModelFolder } from "./model-folder.ts";
export type { ExecutionProvider, RuntimeOptions } from "./session.ts";
