#!/bin/sh
# The tests of app, as its CI runs them (the demo's check command). The app's
# layout tests know Contoso.Widgets 2.0 only.
if grep -q 'Name="Contoso.Widgets" Version="2\.0\.' eng/Version.Details.xml; then
  echo "app: 12 tests passed"
else
  echo "app: WidgetLayoutTest failed: Contoso.Widgets 2.1 lays out 4 columns, the app expects 3"
  exit 1
fi
