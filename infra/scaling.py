"""The platforms' autoscaler facts as data: Knative's bounds on its per-revision autoscaling
annotations and Cloud Run's service-level scaling modes. Checked by infra/settings/autoscaling.py,
rendered by the components, read by the policy pack."""

# Knative's own bounds on the per-revision autoscaling annotations it validates (knative/serving
# pkg/apis/autoscaling/register.go and annotation_validation.go, knative-v1.23): (low, high).
# Each stack key also takes 0, "unset": the annotation is not rendered and Knative's default holds.
KNATIVE_AUTOSCALING_ANNOTATIONS = "autoscaling.knative.dev"
KNATIVE_WINDOW_SECONDS = (6, 3600)  # WindowMin, WindowMax; whole seconds
KNATIVE_SCALE_DOWN_DELAY_SECONDS = (1, 3600)  # 0…WindowMax; 0 is Knative's default (no delay)
KNATIVE_PANIC_WINDOW_PERCENTAGE = (1, 100)  # of the stable window
KNATIVE_PANIC_THRESHOLD_PERCENTAGE = (110, 1000)  # of the target; below 110 it would always panic
KNATIVE_TARGET_UTILIZATION_PERCENTAGE = (1, 100)
KNATIVE_ACTIVATION_SCALE_MIN = 2  # "must be greater than 1" (1 is the default); at most max-scale
# Cloud Run's service-level scaling modes (cloudrunv2 Service.scaling.scaling_mode): setting → enum.
SCALING_MODES = {"automatic": "AUTOMATIC", "manual": "MANUAL"}
