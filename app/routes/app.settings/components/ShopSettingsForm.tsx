import { useEffect, useState } from "react";
import { useActionData, useNavigation, useSubmit } from "@remix-run/react";
import { useAppBridge } from "@shopify/app-bridge-react";
import { Card, Checkbox, FormLayout, Select, TextField } from "@shopify/polaris";
import { useTranslation } from "react-i18next";
import type { SettingsErrors, ShopSettings } from "~/models/settings.server";
import type { SettingsActionData } from "../view-model.server";
import type { SettingsView } from "./settings-view";

type FormValues = {
  defaultPipeline: string;
  reviewBeforePublish: boolean;
  backgroundColor: string;
  outputSizePreset: string;
  dailySpendCap: string;
};

function toFormValues(s: ShopSettings): FormValues {
  return {
    defaultPipeline: s.defaultPipeline,
    reviewBeforePublish: s.reviewBeforePublish,
    backgroundColor: s.backgroundColor,
    outputSizePreset: s.outputSizePreset,
    dailySpendCap: s.dailySpendCap === null ? "" : String(s.dailySpendCap),
  };
}

/**
 * The shop settings form's state; the page's primary action saves it, so the page holds it and passes it to the form.
 */
export function useShopSettingsForm(settings: SettingsView["settings"], limits: SettingsView["limits"]) {
  const { t } = useTranslation();
  const actionData = useActionData<SettingsActionData>();
  const navigation = useNavigation();
  const submit = useSubmit();
  const shopify = useAppBridge();
  const [values, setValues] = useState<FormValues>(() => toFormValues(settings));
  const saving = navigation.state === "submitting";
  const errors: SettingsErrors = actionData && !actionData.ok && !("intent" in actionData) ? actionData.errors : {};

  useEffect(() => {
    if (actionData?.ok && "settings" in actionData) {
      setValues(toFormValues(actionData.settings));
      shopify.toast.show(t("settings.saved"));
    }
  }, [actionData, shopify, t]);

  const set =
    <K extends keyof FormValues>(key: K) =>
    (value: FormValues[K]) =>
      setValues((v) => ({ ...v, [key]: value }));
  const save = () => submit({ ...values, reviewBeforePublish: values.reviewBeforePublish ? "on" : "" }, { method: "post", replace: true });
  // The server names the field; the sentence is the merchant's language's.
  const fieldError = (field: keyof SettingsErrors) => {
    if (!errors[field]) return undefined;
    if (field === "defaultPipeline") return t("settings.errors.pipeline");
    if (field === "dailySpendCap") return t("settings.errors.dailySpendCap", { max: limits.dailySpendCap });
    if (field === "reviewBeforePublish") return errors[field];
    return t(`settings.errors.${field}`);
  };
  return { values, set, save, saving, fieldError };
}

export type ShopSettingsFormState = ReturnType<typeof useShopSettingsForm>;

/** The defaults for new batches: pipeline, review before publishing, background colour, output size, daily spend cap. */
export function ShopSettingsForm({ form, pipelines }: { form: ShopSettingsFormState; pipelines: SettingsView["pipelines"] }) {
  const { t } = useTranslation();
  const { values, set, save, fieldError } = form;
  const colourPreview = /^#?[0-9a-fA-F]{6}$/.test(values.backgroundColor) ? `#${values.backgroundColor.replace(/^#/, "")}` : "transparent";
  const chosen = pipelines.find((p) => p.id === values.defaultPipeline);
  return (
    <Card>
      <form
        method="post"
        onSubmit={(event) => {
          event.preventDefault();
          save();
        }}
      >
        <FormLayout>
          <Select
            label={t("settings.defaultPipeline")}
            name="defaultPipeline"
            options={pipelines.map((p) => ({ label: t(`pipelines.${p.id}.label`), value: p.id }))}
            value={values.defaultPipeline}
            onChange={set("defaultPipeline")}
            helpText={chosen ? t(`pipelines.${chosen.id}.summary`) : undefined}
            error={fieldError("defaultPipeline")}
          />
          <Checkbox
            label={t("settings.reviewBeforePublish")}
            name="reviewBeforePublish"
            helpText={t("settings.reviewHelp")}
            checked={values.reviewBeforePublish}
            onChange={set("reviewBeforePublish")}
            error={fieldError("reviewBeforePublish")}
          />
          <TextField
            label={t("settings.backgroundColour")}
            name="backgroundColor"
            autoComplete="off"
            value={values.backgroundColor}
            onChange={set("backgroundColor")}
            helpText={t("settings.backgroundHelp")}
            error={fieldError("backgroundColor")}
            prefix={
              <span
                aria-hidden
                style={{
                  display: "inline-block",
                  width: 16,
                  height: 16,
                  verticalAlign: "middle",
                  borderRadius: 4,
                  border: "1px solid var(--p-color-border)",
                  background: colourPreview,
                }}
              />
            }
          />
          <Select
            label={t("settings.outputSize")}
            name="outputSizePreset"
            options={[
              { label: t("settings.sizeStandard"), value: "standard" },
              { label: t("settings.sizeLarge"), value: "large" },
            ]}
            value={values.outputSizePreset}
            onChange={set("outputSizePreset")}
            error={fieldError("outputSizePreset")}
          />
          <TextField
            label={t("settings.dailyCap")}
            name="dailySpendCap"
            type="number"
            min={1}
            autoComplete="off"
            value={values.dailySpendCap}
            onChange={set("dailySpendCap")}
            helpText={t("settings.dailyCapHelp")}
            error={fieldError("dailySpendCap")}
          />
          <button type="submit" hidden aria-hidden tabIndex={-1} />
        </FormLayout>
      </form>
    </Card>
  );
}
