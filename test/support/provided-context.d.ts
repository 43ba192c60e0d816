// Values the Vitest global setup hands to tests (`inject(...)`), typed for both the node and the workerd projects.
import "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL of the GPU service process the global setup started. */
    gpuUrl: string;
    gpuSecret: string;
    /** A token the GPU service accepts as a bearer, standing in for an HF token of a custom Inference Endpoint. */
    hfToken: string;
    /**
     * An HTTPS image host the GPU service may fetch from (test/support/image-host.ts), `https://images.test:<port>`,
     * e.g. `${imageHost}/red.jpg`.
     */
    imageHost: string;
    /** Plain-HTTP control of the image host's held downloads (`/held/<id>`, `/release/<id>`). */
    imageHostControl: string;
    /**
     * postgres://… of the local Postgres the global setup started (test/support/postgres-global-setup.ts): what the
     * Worker's HYPERDRIVE binding connects to.
     */
    postgresUrl: string;
    /** Fresh shapes-world renders (one per colour–shape pair), base64, for tests inside workerd where sharp cannot run. */
    shapes: { colour: string; shape: string; label: string; mime: string; base64: string }[];
  }
}
