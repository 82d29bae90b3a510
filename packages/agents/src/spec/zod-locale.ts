import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";

// zod/mini brings no messages of its own: without a locale every issue would read "Invalid input".
z.config(en());
