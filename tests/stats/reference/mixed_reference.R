# Reference numbers for tests/stats/test_mixed.py, from R's lme4 and nlme.
# Run from this folder:  Rscript mixed_reference.R
# (Debian: apt-get install r-base-core r-cran-lme4; nlme comes with R.)
# crossover_pain.csv is ldntrial.simulate_trial("crossover-2013", n=12, seed=7),
# pain on the LDN and placebo days (stats.daily_model.daily_frame).
suppressMessages({ library(lme4); library(nlme) })
d <- read.csv("crossover_pain.csv")
d$treated <- as.numeric(d$treated == "True")
d$period <- factor(d$period)

m <- lmer(value ~ treated + period + (1 | participant_id), data = d, REML = TRUE,
          control = lmerControl(optimizer = "bobyqa", optCtrl = list(rhobeg = 2e-4, rhoend = 2e-11)))
s <- summary(m)$coefficients
vc <- as.data.frame(VarCorr(m))
lme4_out <- data.frame(term = rownames(s), estimate = s[, 1], std_error = s[, 2])
write.csv(lme4_out, "lme4_terms.csv", row.names = FALSE)
write.csv(data.frame(sigma2 = vc$vcov[2], tau2 = vc$vcov[1], reml_criterion = REMLcrit(m)),
          "lme4_variance.csv", row.names = FALSE)

a <- lme(value ~ treated + period, random = ~ 1 | participant_id, data = d, method = "REML",
         correlation = corCAR1(form = ~ study_day | participant_id),
         control = lmeControl(msTol = 1e-12, tolerance = 1e-12, msMaxIter = 500))
t <- summary(a)$tTable
nlme_out <- data.frame(term = rownames(t), estimate = t[, 1], std_error = t[, 2])
write.csv(nlme_out, "nlme_car1_terms.csv", row.names = FALSE)
phi <- coef(a$modelStruct$corStruct, unconstrained = FALSE)
write.csv(data.frame(rho = phi, sigma2 = a$sigma^2,
                     tau2 = as.numeric(VarCorr(a)[1, 1]), reml_loglik = a$logLik),
          "nlme_car1_variance.csv", row.names = FALSE)
