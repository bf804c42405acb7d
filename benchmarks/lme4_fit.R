# Times lme4 on the model ldntrial fits: value ~ treated + period + (1 | participant_id), REML.
# Usage: Rscript lme4_fit.R data.csv   (prints seconds, then term,estimate lines)
suppressMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
d$period <- factor(d$period)
elapsed <- system.time(
  m <- lmer(value ~ treated + period + (1 | participant_id), data = d, REML = TRUE)
)[["elapsed"]]
cat(sprintf("seconds,%.6f\n", elapsed))
f <- fixef(m)
for (i in seq_along(f)) cat(sprintf("%s,%.10f\n", names(f)[i], f[i]))
