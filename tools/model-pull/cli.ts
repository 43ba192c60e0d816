// npm run model:pull -- <repo id> [--revision R] [--dest DIR] [--precision fp32|fp16|quantized] [--hub-url URL]
// Downloads a CLIP ONNX export from the Hugging Face Hub into a model folder; see main.ts and --help.
import { main } from "./main.ts";

process.exitCode = await main(process.argv.slice(2), process.env, {
  stdout: process.stdout,
  stderr: process.stderr,
});
