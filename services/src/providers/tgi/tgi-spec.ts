import { Code, ConnectError } from "@connectrpc/connect";
import type { HttpProviderSpec } from "../../http-provider/http-provider-spec.js";

/** STUB — replaced by the real `tgi` spec. */
export const tgiSpec: HttpProviderSpec = {
  kind: "tgi",
  request() {
    throw new ConnectError("tgi: not implemented yet", Code.Unimplemented);
  },
  decode() {
    throw new ConnectError("tgi: not implemented yet", Code.Unimplemented);
  },
  errorMessage: () => undefined,
};
