# Reference numbers for tests/stats/test_meta_analysis.py, from R's metafor.
# Run from this folder:  Rscript meta_reference.R
# (Debian: apt-get install r-base-core r-cran-metafor; metafor 3.8-1 made the stored files.)
# meta_input.csv holds the pooled rows of the shipped evidence table (their effects as
# ldntrial.stats.evidence converts them), two small hand-made sets, and below metafor's own
# BCG vaccine data (dat.bcg, log risk ratios), which nobody here chose.
suppressMessages(library(metafor))
input <- read.csv("meta_input.csv")
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
sets <- c(split(input[, c("label", "yi", "sei")], input$dataset),
          list(bcg = data.frame(label = paste0("trial", bcg$trial), yi = bcg$yi,
                                sei = sqrt(bcg$vi))))
control <- list(threshold = 1e-12, maxiter = 10000)

summarise <- function(name, left_out, d) {
  m <- rma(yi = d$yi, sei = d$sei, method = "REML", test = "knha", control = control)
  k <- nrow(d)
  half <- if (k > 2) qt(0.975, k - 2) * sqrt(m$tau2 + m$se^2) else NA  # Higgins 2009: k - 2 df
  data.frame(dataset = name, left_out = left_out, k = k, estimate = as.numeric(m$beta),
             std_error = m$se, ci_lower = m$ci.lb, ci_upper = m$ci.ub, p_value = m$pval,
             tau2 = m$tau2, i2_percent = m$I2, q = m$QE, q_p_value = m$QEp,
             prediction_lower = as.numeric(m$beta) - half,
             prediction_upper = as.numeric(m$beta) + half)
}

rows <- list()
for (name in names(sets)) {
  d <- sets[[name]]
  rows[[length(rows) + 1]] <- summarise(name, "", d)
  if (nrow(d) > 2) for (i in seq_len(nrow(d))) {
    rows[[length(rows) + 1]] <- summarise(name, d$label[i], d[-i, ])
  }
}
out <- do.call(rbind, rows)
write.csv(out, "metafor_reml_knha.csv", row.names = FALSE)
bcg_out <- data.frame(label = paste0("trial", bcg$trial), yi = bcg$yi, sei = sqrt(bcg$vi))
write.csv(bcg_out, "bcg_input.csv", row.names = FALSE)
