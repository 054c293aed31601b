import { ConfigError, getConfig } from "@/config";
import { startServer } from "@/server";

try {
  await startServer(getConfig());
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
